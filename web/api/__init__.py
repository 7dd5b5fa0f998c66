"""api: the REST routers, one module per audience or resource. Each translates HTTP to one service call of command/
(or geo/) and back; the transaction belongs to the request's SessionDep (web.deps), never to a router."""
