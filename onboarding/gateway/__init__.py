"""The event gateway: publish and consume over REST and gRPC for teams without a Kafka client (data plane).

It reads its grants from a compacted topic that the access reconciler writes, and never reads Postgres.
"""
