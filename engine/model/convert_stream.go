package model

// MetadataGGUF is the metadata.gguf that Convert writes for a source with
// metadata md (sorted keys, file-describing keys dropped). The model store's
// streaming download calls it so its folders match Convert's byte for byte.
func MetadataGGUF(md map[string]any) ([]byte, error) { return metadataGGUF(md) }
