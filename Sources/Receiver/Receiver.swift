// Receiver module
