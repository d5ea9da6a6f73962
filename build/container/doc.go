// Package container holds the container image's files and the test that
// builds the image with buildah and checks its root file system.
package container
