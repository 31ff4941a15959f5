"""3D scanning: depth sources, calibration, TSDF fusion, segmentation, watertight meshes, measurements."""
