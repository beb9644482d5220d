"""Knowledge served as MCP resources: the rule catalogue, one page per rule, the guides, and live schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.server.mcpserver.resources import FunctionResource

from dbspecialist.knowledge.guides_index import guides, render_index

if TYPE_CHECKING:
    from dbspecialist.server.state import ServerState


def register_resources(mcp: MCPServer, state: ServerState | None = None) -> None:
    """Register the rule pages, the guides and (given `state`) the live schemas on `mcp`.

    Static resources are built as `FunctionResource`s directly: the `@mcp.resource` decorator would inspect each
    function's signature and wrap it in a pydantic `validate_call`, ~0.1 ms apiece at start-up for nothing (they take
    no arguments). Nothing is read until a client reads the resource.
    """
    _add_static(
        mcp,
        "dbspecialist://rules",
        name="rules",
        title="All rules",
        description="Every rule (schema SCH, plans PLN, queries QRY, config audit TUN, migrations MIG, health HLT).",
        read=_rules_index,
    )

    @mcp.resource(
        "dbspecialist://rules/{rule_id}",
        name="rule",
        title="One rule",
        description="Why the rule matters, an example, what to do instead and how safe the fix is.",
        mime_type="text/markdown",
    )
    def rule_page(rule_id: str) -> str:
        from dbspecialist.knowledge.rule_docs import expected_pages

        page = expected_pages().get(f"{rule_id.upper()}.md")
        if page is None:
            raise ResourceNotFoundError(f"no rule {rule_id!r}; read dbspecialist://rules for the list")
        return page

    _add_static(
        mcp,
        "dbspecialist://guides",
        name="guides",
        title="All guides",
        description="The knowledge guides: modeling, indexing, queries, migrations, scaling, and one per system.",
        read=render_index,
    )
    for g in guides():
        _add_static(mcp, g.uri, name=f"guide-{g.slug}", title=g.title, description=g.summary, read=g.text)

    if state is not None:
        _register_live_schema(mcp, state)


def _add_static(mcp: MCPServer, uri: str, *, name: str, title: str, description: str, read: Callable[[], str]) -> None:
    mcp.add_resource(
        FunctionResource(uri=uri, name=name, title=title, description=description, mime_type="text/markdown", fn=read)
    )


def _rules_index() -> str:
    from dbspecialist.knowledge.rule_docs import expected_pages

    return expected_pages()["README.md"]


def _register_live_schema(mcp: MCPServer, state: ServerState) -> None:
    @mcp.resource(
        "dbspecialist://connections/{name}/schema",
        name="live-schema",
        title="Live schema of a connection",
        description="The compact schema of a configured connection: tables, columns, keys, indexes, row estimates.",
        mime_type="application/json",
    )
    async def live_schema(name: str) -> str:
        from dbspecialist.errors import DBSpecialistError
        from dbspecialist.redaction import redact
        from dbspecialist.server.schema_view import describe

        try:
            adapter = await state.registry.get(name)
            catalog = await adapter.introspect()
        except DBSpecialistError as exc:
            raise ResourceNotFoundError(redact(str(exc))) from None
        return describe(adapter.config.name, catalog, detail="summary", offset=0).model_dump_json(exclude_none=True)
