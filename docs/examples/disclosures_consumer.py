"""An analyst's consumer of the disclosure stream: counts disclosures per recipient and month.

It reads REKISTERI_DISCLOSURES with a durable consumer of its own (so it resumes where it left
off, and can start from any sequence or time), decodes each message with the protobuf classes
generated from proto/, and deduplicates by event id: JetStream delivers at least once.

    python3 -m grpc_tools.protoc -I proto --python_out=gen \
        proto/rekisteri/events/v1/events.proto proto/rekisteri/common/v1/common.proto
    PYTHONPATH=gen python3 docs/examples/disclosures_consumer.py nats://127.0.0.1:4222 analyst 1000

(scripts/python-example does both, in a virtual environment with nats-py and protobuf.)
Prints one line of JSON: the disclosures seen, and the counts per recipient and month.
"""

import asyncio
import collections
import json
import sys

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from rekisteri.events.v1 import events_pb2


async def main(url: str, durable: str, expect: int) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    subscription = await js.pull_subscribe(
        "rekisteri.disclosures.recorded",
        durable=durable,
        stream="REKISTERI_DISCLOSURES",
        # From the start of the stream; DeliverPolicy.BY_START_TIME with opt_start_time, or
        # BY_START_SEQUENCE with opt_start_seq, replay from a time or a sequence instead.
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT),
    )
    seen = set()
    per_recipient_month = collections.Counter()
    idle = 0
    while len(seen) < expect:
        try:
            messages = await subscription.fetch(100, timeout=5)
        except nats.errors.TimeoutError:
            # Nothing new: say so, and give up after a minute of silence instead of hanging.
            idle += 1
            print(f"waiting: {len(seen)} of {expect} disclosures so far", file=sys.stderr)
            if idle == 12:
                break
            continue
        idle = 0
        for message in messages:
            envelope = events_pb2.EventEnvelope()
            envelope.ParseFromString(message.data)
            if envelope.event_id not in seen and envelope.HasField("disclosure_recorded"):
                seen.add(envelope.event_id)
                disclosure = envelope.disclosure_recorded
                month = disclosure.disclosed_time.ToDatetime().strftime("%Y-%m")
                per_recipient_month[f"{disclosure.recipient_name} {month}"] += 1
            await message.ack()
    await nc.drain()
    print(json.dumps({"disclosures": len(seen), "per_recipient_month": per_recipient_month}))
    if len(seen) < expect:
        sys.exit(f"only {len(seen)} of {expect} disclosures arrived (the durable consumer "
                 f"{durable!r} resumes where it stopped: delete it, or use a new name, to start over)")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
