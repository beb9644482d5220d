"""Knowledge served as MCP resources: the rule catalogue, one page per rule, the guides, and live schemas."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError

from dbspecialist.knowledge.guides_index import Guide, guides, render_index

if TYPE_CHECKING:
    from dbspecialist.server.state import ServerState


def register_resources(mcp: MCPServer, state: ServerState | None = None) -> None:
    @mcp.resource(
        "dbspecialist://rules",
        name="rules",
        title="All rules",
        description="Every rule (schema SCH, plans PLN, queries QRY, config audit TUN, migrations MIG, health HLT).",
        mime_type="text/markdown",
    )
    def rules_index() -> str:
        from dbspecialist.knowledge.rule_docs import expected_pages

        return expected_pages()["README.md"]

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

    @mcp.resource(
        "dbspecialist://guides",
        name="guides",
        title="All guides",
        description="The knowledge guides: modeling, indexing, queries, migrations, scaling, and one per system.",
        mime_type="text/markdown",
    )
    def guides_index() -> str:
        return render_index()

    for item in guides():
        _register_guide(mcp, item)

    if state is not None:
        _register_live_schema(mcp, state)


def _register_guide(mcp: MCPServer, item: Guide) -> None:
    @mcp.resource(
        item.uri, name=f"guide-{item.slug}", title=item.title, description=item.summary, mime_type="text/markdown"
    )
    def read_guide() -> str:
        return item.text()


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
