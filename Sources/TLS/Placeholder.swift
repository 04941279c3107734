// Placeholder: the TLS module is being written.
