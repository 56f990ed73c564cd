"""Calls the service with Debian's python3-grpcio (gRPC C-core), a client nobody here wrote.

Usage: grpcio-client.py HOST:PORT CALLS_JSON. CALLS_JSON is a list of
{"kind": "unary" | "stream", "path": "/pkg.Service/Method", "request": "<hex>", "timeout": s}
and it prints one JSON line per call: {"code", "details", "messages": [<hex>...]}.
Request and response messages stay raw bytes: the test encodes and decodes them.
"""
import json
import sys

import grpc


def call(channel, spec):
    request = bytes.fromhex(spec.get("request", ""))
    timeout = spec.get("timeout")
    messages = []
    try:
        if spec["kind"] == "unary":
            method = channel.unary_unary(spec["path"])
            messages.append(method(request, timeout=timeout).hex())
        else:
            method = channel.unary_stream(spec["path"])
            for message in method(request, timeout=timeout):
                messages.append(message.hex())
        return {"code": "OK", "details": "", "messages": messages}
    except grpc.RpcError as error:
        return {"code": error.code().name, "details": error.details(), "messages": messages}


def main():
    with grpc.insecure_channel(sys.argv[1]) as channel:
        for spec in json.loads(sys.argv[2]):
            print(json.dumps(call(channel, spec)), flush=True)


main()
