"""FAQ: a reviewed knowledge base about BT, retrieval, and questions forwarded to coordinators."""
