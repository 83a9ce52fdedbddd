"""Live previews while editing (issue 17): the controller that keeps one sample's pass through
the network fresh, and the thumbnails and inspector maps that show it."""
