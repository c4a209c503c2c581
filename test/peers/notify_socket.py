"""A systemd notify socket stand-in: binds a unix datagram socket (a path, or @name for an
abstract one) and prints every datagram it receives as one JSON line."""
import json
import socket
import sys
import time

address = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + address[1:] if address.startswith("@") else address)
print(json.dumps({"ready": True}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"at": time.time(), "message": data.decode("utf-8", "replace")}), flush=True)
