"""A stand-in kubectl for the tests: replays recorded output by (context, verb, resource).

Recordings live next to this file: CONTEXT/NAME.json (stdout) or CONTEXT/NAME.stderr
(kubectl's message, exit 1), falling back to common/ (FAKE_KUBECTL_DATA, when set, is
the folder to read them from instead); NAME is ``api-resources`` or the
resource of ``get RESOURCE --all-namespaces -o json``. A served resource with no recording
lists nothing, as kubectl does. FAKE_KUBECTL_CONTEXT is the current context ("" for none);
FAKE_KUBECTL_LOG, when set, is a file each call's arguments are appended to.
"""

import json
import os
import sys

HERE = os.environ.get("FAKE_KUBECTL_DATA") or os.path.dirname(os.path.abspath(__file__))
EMPTY = {"apiVersion": "v1", "items": [], "kind": "List", "metadata": {"resourceVersion": ""}}


def replay(context, name):
    for folder in (context, "common"):
        base = os.path.join(HERE, folder, name)
        if os.path.exists(base + ".stderr"):
            with open(base + ".stderr") as file:
                sys.stderr.write(file.read())
            sys.exit(1)
        for suffix in (".json", ".txt"):
            if os.path.exists(base + suffix):
                with open(base + suffix) as file:
                    sys.stdout.write(file.read())
                return True
    return False


def main(argv):
    if os.environ.get("FAKE_KUBECTL_LOG"):
        with open(os.environ["FAKE_KUBECTL_LOG"], "a") as log:
            log.write(" ".join(argv) + "\n")
    current = os.environ.get("FAKE_KUBECTL_CONTEXT", "prod")
    context = current
    if argv[:1] == ["--context"]:
        context, argv = argv[1], argv[2:]
        if not os.path.isdir(os.path.join(HERE, context)) and context != "prod":
            sys.exit(f'error: context "{context}" does not exist')
    if argv == ["config", "current-context"]:
        if not current:
            sys.exit("error: current-context is not set")
        print(current)
        return
    if not context:
        sys.exit("error: current-context is not set")
    if argv == ["api-resources", "--verbs=list", "-o", "name"]:
        if not replay(context, "api-resources"):
            sys.exit("no recorded api-resources")
        return
    if len(argv) == 5 and argv[0] == "get" and argv[2:] == ["--all-namespaces", "-o", "json"]:
        if not replay(context, argv[1]):
            json.dump(EMPTY, sys.stdout, indent=4)
        return
    sys.exit(f"the stand-in kubectl has no recording for: {' '.join(argv)}")


if __name__ == "__main__":
    main(sys.argv[1:])
