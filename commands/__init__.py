"""The ``povwatch`` commands: one module per command, registered in ``commands.app``; the work lives in the stage
packages."""
