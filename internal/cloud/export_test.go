package cloud

// EndpointOf is the API URL c calls.
func EndpointOf(c *Client) string { return c.endpoint }
