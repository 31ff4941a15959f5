"""The gRPC boundary: protobuf conversion, error mapping and thin servicers over the domain services."""
