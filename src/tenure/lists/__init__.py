"""Lists of people as views: a registry of columns, sorting in SQL, saved views and the
export of a view (CSV, XLSX)."""
