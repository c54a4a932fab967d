"""Hardware adapters: card readers (PC/SC), printers, capture. No Qt here."""
