// Stands in for the app of examples/docker/Dockerfile.copy-from, which COPYs
// it; the test runs other commands in that image, never this file.
