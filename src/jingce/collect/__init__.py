"""Live collectors (MQTT, watched folder, OPC UA) feeding the same ingest path as files.

Collectors know nothing of the store: they turn what arrives into measurement rows and hand them,
with a way to acknowledge them, to a sink (:class:`jingce.services.live.LiveSink`), which checks
them in real time, commits them in atomic batches and only then acknowledges.
"""
