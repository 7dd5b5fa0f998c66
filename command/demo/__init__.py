"""demo: the demo city (a generated district with its grids, departments, accounts and resource points, loaded by
`gridcmd demo`) and the simulator (workers that move, answer orders and raise believable alerts through the HTTP
API). It may import core and geo; only cli imports it."""
