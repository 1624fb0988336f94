package local

// PickAddr lets the external tests choose the ports nodes are given.
var PickAddr = &pickAddr
