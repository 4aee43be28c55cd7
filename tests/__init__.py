"""noticewatch's tests: laid out like the code; shared helpers in tests/support."""
