"""What the service tells its operators: the access log and ``/metrics``."""
