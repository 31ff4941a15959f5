"""The cloud catalog: gRPC services, storage, change fan-out and auth; ``cloud.client`` is the sync client."""
