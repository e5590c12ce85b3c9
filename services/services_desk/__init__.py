"""services_desk: the one-stop proxy service desk (全程代办) of the host-city service centres."""
