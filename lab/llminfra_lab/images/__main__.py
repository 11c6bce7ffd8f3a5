"""python -m llminfra_lab.images [NAME...]: build (or reuse) the lab images."""

import sys

from llminfra_lab.images import SPECS, build_all

if __name__ == "__main__":
    names = tuple(sys.argv[1:]) or tuple(SPECS)
    for name, tag in build_all(names).items():
        print(f"{name}: {tag}")
