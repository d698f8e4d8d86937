# protoprimer-kernel-file (this marker makes the harness run its kernel's main for this file: the fake
# backend passes a stub kernel whose main is contract_programs.chain_program, which is what this script runs for real)
import importlib.util
import os
import sys


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kernel = load("contract_kernel", os.environ["CONTRACT_KERNEL_FILE"])
programs = load("contract_programs", os.environ["CONTRACT_PROGRAMS_FILE"])
sys.exit(programs.chain_program(kernel.real_host()))
