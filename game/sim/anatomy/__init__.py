"""3D anatomy: the vessel tree (centrelines, radii, flow, lesions) and the patient body seen by the X-rays."""
