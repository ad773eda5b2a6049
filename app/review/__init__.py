"""Expert review: comments, clarification requests, validation and expert ratings."""
