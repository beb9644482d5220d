"""dbspecialist: an MCP server that gives an assistant a senior database specialist's tools."""

__version__ = "0.1.0"
__all__ = ["__version__"]
