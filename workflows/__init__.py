"""Duban engine glue: pure Python around SpiffWorkflow. Never imports Flask."""
