"""What the hotline does, with no HTTP and no terminal: the engine that runs flows, one inbound
message (service), KK members' commands, duty and offers, and the catalogs every text comes from."""
