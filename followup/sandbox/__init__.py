"""The sandbox: the phone simulator, the demo data and the demo post room (never in production)."""
