"""Domain services of the cloud: plain Python over the storage, no protobuf inside."""
