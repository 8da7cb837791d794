"""Plain modules that belong to no Django app, shared by the console and the sandbox (which
may import nothing from the console's apps)."""
