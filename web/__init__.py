"""web: the edges people and programs touch. It owns the FastAPI app (app: pools opened in lifespan, kept on
app.state), the REST routers per audience (api/), request types and shared bodies, dependencies as Annotated types
(deps), the one error shape (errors) and the OpenAPI error statuses, the WebSocket hub and its sockets, and the
pages (templates/, static/, i18n/). It may import command/, geo/ and dispatch/; nothing imports it."""
