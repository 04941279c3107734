// Placeholder: the DNS module is being written.
