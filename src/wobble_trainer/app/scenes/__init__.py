"""The app's screens: the home flow (menus), calibration, results, and the activities."""
