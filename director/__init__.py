"""Director Mode: a folder of dailies to a planned cut, written as ``.episode`` source."""
