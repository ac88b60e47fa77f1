// Spans widget (in progress).
