"""The follow-up campaigns: rules (pure), the engine, surveys and complaints."""
