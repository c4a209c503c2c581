#!/usr/bin/python3
"""A Modbus peer for tests: pymodbus (Debian python3-pymodbus, importable by /usr/bin/python3 only).

Usage: modbus_peer.py SPEC_JSON
  SPEC: {"mode": "tcp", "port": 5020} or {"mode": "rtu", "device": "/dev/pts/3", "baud": 9600},
        "units": {"9": {"co": 16, "di": 16, "hr": {"0": [1, 2]}, "ir": {"0": [3]}}}
  A table given as a number is that many zeroed addresses from 0; as a mapping, blocks of values
  at the given start addresses (sparse: addresses outside them answer exception 02).
Control, one JSON object per line on stdin, one JSON answer per line on stdout:
  {"op": "set", "unit": 9, "table": "di", "address": 2, "values": [1]}
  {"op": "get", "unit": 9, "table": "co", "address": 0, "count": 8}
  {"op": "remove", "unit": 2}      the unit stops answering (as if unplugged)
  {"op": "restore", "unit": 2}     answers again; with "reset": true its tables are zeroed, as after a power cut
  SPEC "wire": {"baud": 9600, "bits": 10} delays each register read by its frames' wire time.
Prints {"ready": true} once it is serving.
"""
import asyncio
import json
import logging
import sys
import threading
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext,
                                ModbusSparseDataBlock)
from pymodbus.server import StartAsyncSerialServer, StartAsyncTcpServer
from pymodbus.transaction import ModbusRtuFramer, ModbusSocketFramer

logging.basicConfig(level=logging.CRITICAL)
TABLES = {"co": "c", "di": "d", "hr": "h", "ir": "i"}
FC_OF_TABLE = {"co": 1, "di": 2, "hr": 3, "ir": 4}


def block(spec):
    if spec is None:
        return ModbusSparseDataBlock({})
    if isinstance(spec, int):
        return ModbusSequentialDataBlock(0, [0] * spec)
    values = {}
    for start, words in spec.items():
        for i, w in enumerate(words):
            values[int(start) + i] = w
    return ModbusSparseDataBlock(values)


WIRE = {}


class SlowSlave(ModbusSlaveContext):
    """Answers a read only after the time its frames would take on a real line (spec "wire")."""

    def getValues(self, fc_as_hex, address, count=1):
        if WIRE and fc_as_hex in (3, 4):
            char = WIRE["bits"] / WIRE["baud"]
            # request 8 chars and response 5 + 2N chars on the wire, with the silence between them
            time.sleep((8 + 5 + 2 * count) * char + 3.5 * char)
        return super().getValues(fc_as_hex, address, count)


def slave(spec):
    return SlowSlave(di=block(spec.get("di")), co=block(spec.get("co")),
                     hr=block(spec.get("hr")), ir=block(spec.get("ir")), zero_mode=True)


def main():
    spec = json.loads(sys.argv[1])
    WIRE.update(spec.get("wire", {}))
    units = {int(u): slave(s) for u, s in spec["units"].items()}
    removed = {}
    context = ModbusServerContext(slaves=dict(units), single=False)

    def control():
        for line in sys.stdin:
            try:
                cmd = json.loads(line)
                op = cmd["op"]
                if op == "set":
                    context[cmd["unit"]].setValues(FC_OF_TABLE[cmd["table"]], cmd["address"], cmd["values"])
                    answer = {"ok": True}
                elif op == "get":
                    values = ModbusSlaveContext.getValues(context[cmd["unit"]], FC_OF_TABLE[cmd["table"]], cmd["address"], cmd.get("count", 1))
                    answer = {"values": [int(v) for v in values]}
                elif op == "remove":
                    removed[cmd["unit"]] = context._slaves.pop(cmd["unit"])
                    answer = {"ok": True}
                elif op == "restore":
                    back = removed.pop(cmd["unit"])
                    context._slaves[cmd["unit"]] = slave(spec["units"][str(cmd["unit"])]) if cmd.get("reset") else back
                    answer = {"ok": True}
                else:
                    answer = {"error": f"unknown op {op}"}
            except Exception as e:  # a bad control line must not kill the peer
                answer = {"error": str(e)}
            print(json.dumps(answer), flush=True)

    threading.Thread(target=control, daemon=True).start()

    async def serve():
        if spec["mode"] == "tcp":
            server = await StartAsyncTcpServer(context=context, address=("127.0.0.1", spec["port"]),
                                               framer=ModbusSocketFramer, ignore_missing_slaves=True,
                                               allow_reuse_address=True, defer_start=True)
            serving = asyncio.ensure_future(server.serve_forever())
            await server.serving  # bound and listening: only now is the peer ready
            print(json.dumps({"ready": True}), flush=True)
            await serving
        else:
            server = await StartAsyncSerialServer(context=context, framer=ModbusRtuFramer, port=spec["device"],
                                                  baudrate=spec.get("baud", 9600), ignore_missing_slaves=True,
                                                  defer_start=True)
            await server.start()
            print(json.dumps({"ready": True}), flush=True)
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
