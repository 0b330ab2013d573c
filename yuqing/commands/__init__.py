"""CLI command modules; each exports COMMANDS for yuqing.cli to register."""
