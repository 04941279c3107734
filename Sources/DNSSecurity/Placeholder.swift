// Placeholder: the DNSSecurity module is being written.
