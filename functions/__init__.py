"""HTTP/timer/queue functions, one blueprint per API area. Each function only parses,
authorizes (via @face_operation), calls into shared/, and renders."""
