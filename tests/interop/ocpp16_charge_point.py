"""An OCPP 1.6J charge point built on the Mobility House `ocpp` package, run against a chargemesh node.

Usage: python ocpp16_charge_point.py <charger url without station id> <station id> <id tag>
Prints one JSON line with what the node answered; exits non-zero on any failure.
"""

import asyncio
import json
import sys
from datetime import datetime, timedelta, timezone

import websockets
from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import ChargePointStatus, ChargePointErrorCode


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def charge(url, station, id_tag):
    async with websockets.connect(f"{url}/{station}", subprotocols=["ocpp1.6"]) as ws:
        assert ws.subprotocol == "ocpp1.6", ws.subprotocol
        cp = ChargePoint(station, ws)
        listener = asyncio.create_task(cp.start())
        boot = await cp.call(call.BootNotification(charge_point_model="PyModel", charge_point_vendor="PyVendor"))
        assert boot.status == "Accepted", boot
        beat = await cp.call(call.Heartbeat())
        await cp.call(call.StatusNotification(connector_id=1, error_code=ChargePointErrorCode.no_error,
                                              status=ChargePointStatus.available))
        auth = await cp.call(call.Authorize(id_tag=id_tag))
        assert auth.id_tag_info["status"] == "Accepted", auth
        start_at = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)
        started = await cp.call(call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=10_000,
                                                      timestamp=iso(start_at)))
        tx = started.transaction_id
        await cp.call(call.StatusNotification(connector_id=1, error_code=ChargePointErrorCode.no_error,
                                              status=ChargePointStatus.charging))
        await cp.call(call.MeterValues(connector_id=1, transaction_id=tx, meter_value=[{
            "timestamp": iso(start_at + timedelta(minutes=10)),
            "sampled_value": [{"value": "10.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"}],
        }]))
        await cp.call(call.MeterValues(connector_id=1, transaction_id=tx, meter_value=[{
            "timestamp": iso(start_at + timedelta(minutes=20)),
            "sampled_value": [{"value": "11250", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}],
        }]))
        await cp.call(call.StopTransaction(meter_stop=12_000, timestamp=iso(start_at + timedelta(minutes=25)),
                                           transaction_id=tx, reason="EVDisconnected", id_tag=id_tag))
        listener.cancel()
        print(json.dumps({"transaction_id": tx, "heartbeat_time": beat.current_time, "interval": boot.interval}))


if __name__ == "__main__":
    asyncio.run(charge(sys.argv[1], sys.argv[2], sys.argv[3]))
