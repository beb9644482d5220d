"""Knowledge served as MCP resources: the schema rule catalogue and one page per rule."""

from __future__ import annotations

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError


def register_resources(mcp: MCPServer) -> None:
    @mcp.resource(
        "dbspecialist://rules",
        name="rules",
        title="All rules",
        description="Every rule (schema SCH, plans PLN, queries QRY, config audit TUN): id, severity, engines.",
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
