"""Face tracking: MediaPipe FaceMesh landmarks, face choice, smoothing and pose."""
