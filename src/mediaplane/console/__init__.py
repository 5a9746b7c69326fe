"""The web console: server-rendered pages where a tenant's users do what the CLI does, and the plug-in point
(`ConsolePlugin`) through which services add their dashboards. It imports core and kit, never a service."""

from mediaplane.console.plugin import ConsoleContext, ConsolePlugin, CurrentConsole

__all__ = ["ConsoleContext", "ConsolePlugin", "CurrentConsole"]
