"""Records: plain data made from the engine's steps (Step, LayerTrace, Run), the display names
of a network's quantities, and their JSON form."""
