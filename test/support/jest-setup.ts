// Keep test output readable: the app logs at warn unless a test asks for more.
process.env.WHARF_TEST = '1';
